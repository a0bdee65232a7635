import { Module } from '@nestjs/common';
import { ManualRunController } from './manual-run.controller';

@Module({ controllers: [ManualRunController] })
export class SyncsModule {}
