import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/**
 * OpenAPI at /docs (and /docs-json): every public route and DTO, the forwarded company, schedule, settings, connection,
 * document, Robaws customer and usage (resellers, panels, reseller configs) routes.
 */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Sync hub API')
    .setDescription(
      'Runs, status, manual runs, companies, schedules, settings, accounting connections and documents, Robaws customers, and the usage resellers, panels and reseller configs of the sync hub. Every /api route needs Authorization: Bearer <key>.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
