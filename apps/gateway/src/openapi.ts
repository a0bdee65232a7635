import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** OpenAPI at /docs (and /docs-json): every public route and DTO, the forwarded company, schedule and settings routes. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Sync hub API')
    .setDescription(
      'Runs, status, manual runs, companies, schedules and settings of the sync hub. Every /api route needs Authorization: Bearer <key>.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
