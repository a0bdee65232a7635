import { Type } from 'class-transformer';
import {
  IsBoolean, IsDefined, IsIn, IsInt, IsOptional, IsString, Max, Min, Validate, ValidateIf, ValidationArguments, ValidatorConstraint, ValidatorConstraintInterface,
} from 'class-validator';
import { DOMAINS, Domain, JOBS_BY_DOMAIN, OVERLAP_POLICIES, OverlapPolicy } from '@sync-hub/contracts';
import { FREQUENCIES, Frequency, isValidTimezone } from '../next-run';

@ValidatorConstraint({ name: 'jobTypeOfDomain' })
class JobTypeOfDomain implements ValidatorConstraintInterface {
  validate(job: unknown, args: ValidationArguments): boolean {
    const domain = (args.object as UpsertScheduleDto).domain ?? 'accounting';
    return typeof job === 'string' && (JOBS_BY_DOMAIN[domain as Domain]?.includes(job) ?? false);
  }
  defaultMessage(args: ValidationArguments): string {
    const domain = ((args.object as UpsertScheduleDto).domain ?? 'accounting') as Domain;
    return `job_type must be one of ${(JOBS_BY_DOMAIN[domain] ?? []).join(', ') || '(none: unknown domain)'} for domain ${domain}`;
  }
}

@ValidatorConstraint({ name: 'ianaTimezone' })
class IanaTimezone implements ValidatorConstraintInterface {
  validate(zone: unknown): boolean {
    return typeof zone === 'string' && isValidTimezone(zone);
  }
  defaultMessage(): string {
    return 'timezone must be an IANA time zone such as Europe/Tirane or America/New_York';
  }
}

const needs = (...frequencies: Frequency[]) => (o: UpsertScheduleDto, value: unknown) => frequencies.includes(o.frequency) || (value !== undefined && value !== null);

/** Body of POST /api/companies/:companyId/schedules (seed 001's schedule API), snake_case. */
export class UpsertScheduleDto {
  @IsOptional() @IsIn(DOMAINS)
  domain?: Domain;

  @IsString() @Validate(JobTypeOfDomain)
  job_type: string;

  @IsIn(FREQUENCIES)
  frequency: Frequency;

  @ValidateIf(needs('every_minutes')) @IsDefined({ message: 'interval_minutes is required for every_minutes schedules' }) @Type(() => Number) @IsInt() @Min(1) @Max(60)
  interval_minutes?: number | null;

  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(59)
  minute?: number;

  @ValidateIf(needs('daily', 'weekly', 'monthly')) @IsDefined({ message: 'hour_of_day is required for daily, weekly and monthly schedules' }) @Type(() => Number) @IsInt() @Min(0) @Max(23)
  hour_of_day?: number | null;

  @ValidateIf(needs('weekly')) @IsDefined({ message: 'day_of_week is required for weekly schedules' }) @Type(() => Number) @IsInt() @Min(0) @Max(6)
  day_of_week?: number | null;

  @ValidateIf(needs('monthly')) @IsDefined({ message: 'day_of_month is required for monthly schedules' }) @Type(() => Number) @IsInt() @Min(1) @Max(31)
  day_of_month?: number | null;

  @IsOptional() @Validate(IanaTimezone)
  timezone?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(365)
  date_range_days?: number | null;

  @IsOptional() @IsBoolean()
  enabled?: boolean;

  @IsOptional() @IsIn(OVERLAP_POLICIES)
  overlap_policy?: OverlapPolicy;

  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(604800)
  catchup_window_s?: number;
}

export class ToggleScheduleDto {
  @IsBoolean()
  enabled: boolean;
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
  @Validate(Present)
  value: unknown;
}
