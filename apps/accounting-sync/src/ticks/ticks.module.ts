import { Module } from '@nestjs/common';
import { pingOnlyController } from '@sync-hub/platform';

/** Until the accounting sync is built, this app answers the `ping` job and fails every other job as not supported. */
@Module({ controllers: [pingOnlyController('accounting')] })
export class TicksModule {}
