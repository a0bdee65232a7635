import { DynamicModule, Global, Inject, Injectable, Module, ModuleMetadata, OnModuleInit, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Domain, registeredJobs } from '@sync-hub/contracts';
import { declarationOf, SyncJob } from './job-handler';
import { RunClaim } from './run-claim.entity';
import { RunClaimsService } from './run-claims.service';
import { RunExecutor } from './run-executor';
import { ticksController } from './ticks.controller';

/** One run executor per process, whatever domains it hosts (the embedded host runs all four). */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([RunClaim])],
  providers: [RunClaimsService, RunExecutor],
  exports: [RunClaimsService, RunExecutor],
})
export class RunsCoreModule {}

const DOMAIN_HANDLERS = Symbol('DOMAIN_HANDLERS');

/**
 * The run library for a sync app: `RunsModule.forDomain('splynx', { jobs: [CustomersSyncJob], imports: [CustomersModule] })`
 * consumes the domain's ticks and binds each handler class (marked `@JobHandler(DECLARATION)`) to its registry entry;
 * `imports` are the modules whose providers the handlers inject. Start-up fails if a handler has no registry entry, or
 * a registered job of the domain has no handler: the registry and the code cannot drift apart.
 */
@Module({})
export class RunsModule {
  static forDomain(
    domain: Domain,
    options: { jobs: Array<Type<SyncJob>>; imports?: ModuleMetadata['imports'] },
  ): DynamicModule {
    const handlers = options.jobs;
    for (const handler of handlers) {
      const declaration = declarationOf(handler);
      if (!declaration) throw new Error(`${handler.name} is not marked @JobHandler(<its registry entry>)`);
      if (declaration.domain !== domain) {
        throw new Error(`${handler.name} handles ${declaration.domain}/${declaration.job}, not a ${domain} job`);
      }
    }
    const missing = registeredJobs(domain).filter(
      (d) => d.job !== 'ping' && !handlers.some((h) => declarationOf(h) === d),
    );
    if (missing.length > 0) {
      throw new Error(`registered ${missing.map((d) => `${d.domain}/${d.job}`).join(', ')} without a handler`);
    }

    @Injectable()
    class DomainJobsBinder implements OnModuleInit {
      constructor(
        private readonly moduleRef: ModuleRef,
        private readonly executor: RunExecutor,
        @Inject(DOMAIN_HANDLERS) private readonly handlerTypes: Array<Type<SyncJob>>,
      ) {}

      onModuleInit(): void {
        for (const type of this.handlerTypes) this.executor.bind(declarationOf(type)!, this.moduleRef.get(type));
      }
    }

    return {
      module: RunsModule,
      imports: [RunsCoreModule, ...(options.imports ?? [])],
      controllers: [ticksController(domain)],
      providers: [...handlers, { provide: DOMAIN_HANDLERS, useValue: handlers }, DomainJobsBinder],
    };
  }
}
