import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';

/**
 * One exception filter for every HTTP API: known errors keep their status and body; anything else answers 500 with a
 * correlation id, and the stack goes to the log under the same id, never to the client.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(ApiExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      res
        .status(exception.getStatus())
        .json(typeof body === 'string' ? { statusCode: exception.getStatus(), message: body } : body);
      return;
    }
    const correlationId = randomUUID();
    this.logger.error(
      { correlationId, err: exception },
      `unhandled error ${correlationId}: ${(exception as Error)?.message}`,
    );
    res.status(500).json({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Something went wrong; quote the correlation id when reporting it.',
      correlationId,
    });
  }
}
