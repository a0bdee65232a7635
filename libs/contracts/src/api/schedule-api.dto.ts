import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  Validate,
  ValidateIf,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DateTime } from 'luxon';
import { OVERLAP_POLICIES, OverlapPolicy } from '../sync-requested';
import { DOMAINS, Domain, JOBS_BY_DOMAIN } from '../topics';

export const FREQUENCIES = ['every_minutes', 'hourly', 'daily', 'weekly', 'monthly'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

export function isValidTimezone(zone: string): boolean {
  return DateTime.local().setZone(zone).isValid;
}

@ValidatorConstraint({ name: 'jobTypeOfDomain' })
class JobTypeOfDomain implements ValidatorConstraintInterface {
  validate(job: unknown, args: ValidationArguments): boolean {
    const domain = (args.object as UpsertScheduleDto).domain ?? 'accounting';
    return typeof job === 'string' && (JOBS_BY_DOMAIN[domain]?.includes(job) ?? false);
  }
  defaultMessage(args: ValidationArguments): string {
    const domain = (args.object as UpsertScheduleDto).domain ?? 'accounting';
    return `job_type must be one of ${(JOBS_BY_DOMAIN[domain] ?? []).join(', ') || '(none: unknown domain)'} for domain ${domain}`;
  }
}

@ValidatorConstraint({ name: 'ianaTimezone' })
export class IanaTimezone implements ValidatorConstraintInterface {
  validate(zone: unknown): boolean {
    return typeof zone === 'string' && isValidTimezone(zone);
  }
  defaultMessage(): string {
    return 'timezone must be an IANA time zone such as Europe/Tirane or America/New_York';
  }
}

const needs =
  (...frequencies: Frequency[]) =>
  (o: UpsertScheduleDto, value: unknown) =>
    frequencies.includes(o.frequency) || (value !== undefined && value !== null);

/** Body of POST /api/companies/:companyId/schedules (seed 001's schedule API), snake_case. The HTTP contract shared by
 *  the scheduler, which serves it, and the gateway, which forwards and documents it. */
export class UpsertScheduleDto {
  @ApiPropertyOptional({ enum: DOMAINS, default: 'accounting' })
  @IsOptional()
  @IsIn(DOMAINS)
  domain?: Domain;

  @ApiProperty({ example: 'full', description: 'a job of the domain (accounting: sales, bills, full)' })
  @IsString()
  @Validate(JobTypeOfDomain)
  job_type: string;

  @ApiProperty({ enum: FREQUENCIES })
  @IsIn(FREQUENCIES)
  frequency: Frequency;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 60,
    description: 'every_minutes: runs when minute-of-hour % interval == 0',
  })
  @ValidateIf(needs('every_minutes'))
  @IsDefined({ message: 'interval_minutes is required for every_minutes schedules' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(60)
  interval_minutes?: number | null;

  @ApiPropertyOptional({ minimum: 0, maximum: 59, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(59)
  minute?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 23, description: 'required for daily, weekly, monthly' })
  @ValidateIf(needs('daily', 'weekly', 'monthly'))
  @IsDefined({ message: 'hour_of_day is required for daily, weekly and monthly schedules' })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(23)
  hour_of_day?: number | null;

  @ApiPropertyOptional({ minimum: 0, maximum: 6, description: '0 = Sunday; required for weekly' })
  @ValidateIf(needs('weekly'))
  @IsDefined({ message: 'day_of_week is required for weekly schedules' })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(6)
  day_of_week?: number | null;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 31,
    description: "beyond the month's length: its last day; required for monthly",
  })
  @ValidateIf(needs('monthly'))
  @IsDefined({ message: 'day_of_month is required for monthly schedules' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(31)
  day_of_month?: number | null;

  @ApiPropertyOptional({ example: 'Europe/Tirane', default: 'UTC' })
  @IsOptional()
  @Validate(IanaTimezone)
  timezone?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 365, example: 30 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(365)
  date_range_days?: number | null;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ enum: OVERLAP_POLICIES, default: 'skip' })
  @IsOptional()
  @IsIn(OVERLAP_POLICIES)
  overlap_policy?: OverlapPolicy;

  @ApiPropertyOptional({ minimum: 0, maximum: 604800, default: 3600 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(604800)
  catchup_window_s?: number;
}

export class ToggleScheduleDto {
  @ApiProperty()
  @IsBoolean()
  enabled: boolean;

  /** With enabled=false: why (the gateway pauses a schedule after repeated failures). Cleared when enabled again. */
  @ApiPropertyOptional({ maxLength: 255 })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  reason?: string;
}

@ValidatorConstraint({ name: 'present' })
class Present implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return value !== undefined;
  }
  defaultMessage(): string {
    return 'value is required';
  }
}

export class PutSettingDto {
  /** Any JSON value; the setting decides what it means (a non-integer interval falls back to the default). */
  @ApiProperty({ example: 5 })
  @Validate(Present)
  value: unknown;
}
