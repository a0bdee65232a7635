import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseIntPipe,
  Patch,
  Post,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiKeyGuard } from '@sync-hub/platform';
import type { Response } from 'express';
import { RunNowResponse, ScheduleView, ToggleScheduleDto, UpsertScheduleDto } from '@sync-hub/contracts';
import { SchedulesService } from './schedules.service';

/** A schedule id that is not even a number names no schedule: 404 like any unknown id. */
const id = new ParseIntPipe({ exceptionFactory: () => new NotFoundException('schedule not found') });

@Controller('api')
@UseGuards(ApiKeyGuard)
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  @Get('companies/:companyId/schedules')
  async list(@Param('companyId', new ParseIntPipe()) companyId: number): Promise<ScheduleView[]> {
    return (await this.schedules.list(companyId)).map((s) => this.schedules.view(s));
  }

  /**
   * 201 with a new schedule; 200 when the company already had one for this domain and job type. A job without a handler
   * in this version is stored disabled, its paused_reason saying why.
   */
  @Post('companies/:companyId/schedules')
  async upsert(
    @Param('companyId', new ParseIntPipe()) companyId: number,
    @Body() body: UpsertScheduleDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ScheduleView> {
    const { schedule, created } = await this.schedules.upsert(companyId, body);
    res.status(created ? 201 : 200);
    return this.schedules.view(schedule);
  }

  /** 409 when enabling a schedule whose job has no handler in this version. */
  @Patch('schedules/:id/toggle')
  async toggle(@Param('id', id) scheduleId: number, @Body() body: ToggleScheduleDto): Promise<ScheduleView> {
    return this.schedules.view(await this.schedules.toggle(scheduleId, body.enabled, body.reason));
  }

  @Delete('schedules/:id')
  @HttpCode(204)
  async remove(@Param('id', id) scheduleId: number): Promise<void> {
    await this.schedules.remove(scheduleId);
  }

  /** 202 with the run id; 409 when the schedule's job has no handler in this version. */
  @Post('schedules/:id/run')
  @HttpCode(202)
  async run(@Param('id', id) scheduleId: number): Promise<RunNowResponse> {
    return { run_id: await this.schedules.runNow(scheduleId) };
  }
}
