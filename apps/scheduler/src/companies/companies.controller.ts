import { Body, Controller, Get, NotFoundException, Param, ParseIntPipe, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '@sync-hub/platform';
import { CompanyView, CreateCompanyDto, UpdateCompanyDto } from '@sync-hub/contracts';
import { CompaniesService } from './companies.service';

/** A company id that is not even a number names no company: 404 like any unknown id. */
const id = new ParseIntPipe({ exceptionFactory: () => new NotFoundException('company not found') });

/** No DELETE: a company is deactivated (`active: false`), so what names it (schedules, connections, rows) stays valid. */
@Controller('api/companies')
@UseGuards(ApiKeyGuard)
export class CompaniesController {
  constructor(private readonly companies: CompaniesService) {}

  @Get()
  async list(): Promise<CompanyView[]> {
    return (await this.companies.list()).map((c) => this.companies.view(c));
  }

  @Post()
  async create(@Body() body: CreateCompanyDto): Promise<CompanyView> {
    return this.companies.view(await this.companies.create(body));
  }

  @Get(':id')
  async get(@Param('id', id) companyId: number): Promise<CompanyView> {
    return this.companies.view(await this.companies.get(companyId));
  }

  @Patch(':id')
  async update(@Param('id', id) companyId: number, @Body() body: UpdateCompanyDto): Promise<CompanyView> {
    return this.companies.view(await this.companies.update(companyId, body));
  }
}
