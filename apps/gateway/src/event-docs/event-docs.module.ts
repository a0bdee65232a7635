import { Module } from '@nestjs/common';
import { EventDocsController } from './event-docs.controller';

/** /docs/events: the AsyncAPI document of the topics, beside the REST API's /docs. */
@Module({ controllers: [EventDocsController] })
export class EventDocsModule {}
