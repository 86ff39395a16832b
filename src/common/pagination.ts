import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** Query parameters shared by every v1 list (API.md §1.2). Resource DTOs extend it and add sortBy and filters. */
export class PageQueryDto {
  @ApiPropertyOptional({ description: 'Rows to skip; negative counts from the end.', default: 0, type: Number })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(-Number.MAX_SAFE_INTEGER)
  @Max(Number.MAX_SAFE_INTEGER)
  offset?: number = 0;

  @ApiPropertyOptional({ description: 'Rows per page, 1..1000.', default: DEFAULT_LIMIT, minimum: 1, maximum: MAX_LIMIT, type: Number })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_LIMIT)
  limit?: number = DEFAULT_LIMIT;

  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'asc' })
  @IsOptional()
  @IsIn(['asc', 'desc'])
  orderBy?: 'asc' | 'desc' = 'asc';
}

export class PaginationDto {
  @ApiProperty() offset: number;
  @ApiProperty() limit: number;
  @ApiProperty() startIndex: number;
  @ApiProperty() endIndex: number;
  @ApiProperty() total: number;
}

/** Where a page starts and ends in a filtered set of `total` rows (Determined's algorithm). */
export function pageWindow(total: number, offset: number, limit: number): PaginationDto {
  let startIndex = offset;
  if (offset > total || offset < -total) startIndex = total;
  else if (offset < 0) startIndex = total + offset;
  const endIndex = Math.min(startIndex + limit, total);
  return { offset, limit, startIndex, endIndex, total };
}

export interface Page<T> {
  rows: T[];
  pagination: PaginationDto;
}
