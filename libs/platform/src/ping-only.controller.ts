import { Controller, Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Domain, requestedTopic } from '@sync-hub/contracts';
import { BusContext } from '@sync-hub/messaging';
import { RunExecutor } from './run-executor';

/**
 * The tick handler of a sync app whose domain is not built yet: it answers `ping` and fails every other job with
 * JOB_NOT_SUPPORTED (a config error), so a tick is never silently dropped.
 */
export function pingOnlyController(domain: Domain): Type<unknown> {
  @Controller()
  class PingOnlyTicksController {
    constructor(private readonly runs: RunExecutor) {}

    @EventPattern(requestedTopic(domain))
    onTick(@Payload() value: unknown, @Ctx() ctx: BusContext): Promise<void> {
      return this.runs.handleTick(value, ctx);
    }
  }
  Object.defineProperty(PingOnlyTicksController, 'name', {
    value: `${domain[0].toUpperCase()}${domain.slice(1)}TicksController`,
  });
  return PingOnlyTicksController;
}
