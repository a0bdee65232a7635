import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ApiExceptionFilter } from './exception.filter';

function fieldErrors(errors: ValidationError[], prefix = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of errors) {
    const field = `${prefix}${e.property}`;
    if (e.constraints) out[field] = Object.values(e.constraints);
    Object.assign(out, fieldErrors(e.children ?? [], `${field}.`));
  }
  return out;
}

/**
 * Request validation for every API: unknown fields rejected, values converted to their declared types, and a 400 that
 * names each bad field: `{ statusCode, error, message: ["field: reason", …], fields: { field: [reasons] } }`.
 */
export const apiValidationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) => {
    const fields = fieldErrors(errors);
    return new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: Object.entries(fields).flatMap(([f, reasons]) =>
        reasons.map((r) => (r.startsWith(f) ? r : `${f}: ${r}`)),
      ),
      fields,
    });
  },
});

/** Validation pipe and exception filter for an app serving an API (one list so no app forgets either). */
export const API_VALIDATION = [
  { provide: APP_PIPE, useValue: apiValidationPipe },
  { provide: APP_FILTER, useClass: ApiExceptionFilter },
];
