import { Controller, Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Domain, requestedTopic } from '@sync-hub/contracts';
import { BusContext } from '@sync-hub/messaging';
import { RunExecutor } from './run-executor';

/**
 * The consumer of a domain's `sync.<domain>.requested.v1`: every tick goes to the run executor, which runs the job
 * bound to it, answers `ping`, and fails a job with no handler as JOB_NOT_SUPPORTED (a tick is never dropped silently).
 */
export function ticksController(domain: Domain): Type<unknown> {
  @Controller()
  class TicksController {
    constructor(private readonly runs: RunExecutor) {}

    @EventPattern(requestedTopic(domain))
    onTick(@Payload() value: unknown, @Ctx() ctx: BusContext): Promise<void> {
      return this.runs.handleTick(value, ctx);
    }
  }
  Object.defineProperty(TicksController, 'name', {
    value: `${domain[0].toUpperCase()}${domain.slice(1)}TicksController`,
  });
  return TicksController;
}
