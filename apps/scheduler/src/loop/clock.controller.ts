import { Body, Controller, NotFoundException, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, Max, Min } from 'class-validator';
import { SchedulerClock } from '../clock/clock';
import { SchedulerLoop, StepResult } from './scheduler-loop.service';

export class MoveClockDto {
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100000)
  advance_minutes?: number;
}

/**
 * Only with SCHEDULER_CLOCK=manual (tests): moves the clock, then runs one scheduler step and says what it did.
 * With the system clock the route answers 404, as if it did not exist.
 */
@ApiExcludeController()
@Controller('__clock')
export class ClockController {
  constructor(
    private readonly clock: SchedulerClock,
    private readonly loop: SchedulerLoop,
  ) {}

  @Post()
  async move(@Body() body: MoveClockDto): Promise<StepResult> {
    if (!this.clock.manual) throw new NotFoundException();
    const now = this.clock.now();
    if (body.to) this.clock.set(new Date(body.to));
    else if (body.advance_minutes !== undefined) this.clock.set(new Date(now.getTime() + body.advance_minutes * 60000));
    return this.loop.step(true);
  }
}
