import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, MaxLength, MinLength, Validate } from 'class-validator';
import { IanaTimezone } from './schedule-api.dto';

export const DEFAULT_COMPANY_TIMEZONE = 'Europe/Tirane';

/** POST /api/companies. */
export class CreateCompanyDto {
  @ApiProperty({ example: 'Shpresa Sh.p.k.' })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  name: string;

  @ApiPropertyOptional({ example: 'Europe/Tirane', description: `IANA zone; default ${DEFAULT_COMPANY_TIMEZONE}` })
  @IsOptional()
  @IsString()
  @Validate(IanaTimezone)
  timezone?: string;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

/** PATCH /api/companies/:id: any of the fields. */
export class UpdateCompanyDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  name?: string;

  @ApiPropertyOptional({ example: 'Europe/Tirane' })
  @IsOptional()
  @IsString()
  @Validate(IanaTimezone)
  timezone?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

/** A company as GET/POST /api/companies and GET/PATCH /api/companies/:id answer it. */
export interface CompanyView {
  id: number;
  name: string;
  timezone: string;
  active: boolean;
  created_at: string;
  updated_at: string;
}
