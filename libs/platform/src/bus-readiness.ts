import { Injectable } from '@nestjs/common';
import { EventPublisher } from '@sync-hub/messaging';

/**
 * Whether this process can use its bus: the producer reaches a broker (a cached metadata probe, see
 * EventPublisher.unreachable: kafkajs's own "connected" stays true through an outage) and, for an app that consumes, the
 * consumer has joined its group (so a tick published now is seen). The consumer's state is fed by bootstrap from the
 * transport's status.
 */
@Injectable()
export class BusReadiness {
  private consumerState: 'none' | 'joining' | 'joined' | 'lost' = 'none';

  constructor(private readonly publisher: EventPublisher) {}

  consumerJoining(): void {
    this.consumerState = 'joining';
  }
  consumerJoined(): void {
    this.consumerState = 'joined';
  }
  consumerLost(): void {
    this.consumerState = 'lost';
  }

  async problems(): Promise<string[]> {
    const problems: string[] = [];
    const unreachable = await this.publisher.unreachable();
    if (unreachable) problems.push(unreachable);
    if (this.consumerState === 'joining') problems.push('bus consumer has not joined its group yet');
    if (this.consumerState === 'lost') problems.push('bus consumer lost its connection');
    return problems;
  }
}
