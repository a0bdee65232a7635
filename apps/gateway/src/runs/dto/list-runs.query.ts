import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { DOMAINS } from '@sync-hub/contracts';

export class ListRunsQuery {
  @IsOptional() @IsIn(DOMAINS)
  domain?: string;

  @IsOptional() @IsString() @MaxLength(64)
  job?: string;

  @IsOptional() @IsIn(['requested', 'running', 'completed', 'failed', 'skipped'])
  status?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit?: number;
}
