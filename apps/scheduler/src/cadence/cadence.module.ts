import { Module } from '@nestjs/common';
import { FixedCadenceService } from './fixed-cadence.service';

@Module({ providers: [FixedCadenceService] })
export class CadenceModule {}
