import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { DOMAINS } from '@sync-hub/contracts';

export class ListRunsQuery {
  @ApiPropertyOptional({ enum: DOMAINS })
  @IsOptional()
  @IsIn(DOMAINS)
  domain?: string;

  @ApiPropertyOptional({ example: 'customers' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  job?: string;

  @ApiPropertyOptional({ enum: ['requested', 'running', 'completed', 'failed', 'skipped'] })
  @IsOptional()
  @IsIn(['requested', 'running', 'completed', 'failed', 'skipped'])
  status?: string;

  @ApiPropertyOptional({ minimum: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  company_id?: number;

  @ApiPropertyOptional({ description: 'runs recorded at or after this instant (ISO-8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{8,200}$/, { message: 'cursor is not a cursor this API gave out' })
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}
