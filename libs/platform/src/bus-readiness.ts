import { Injectable } from '@nestjs/common';
import { EventPublisher } from '@sync-hub/messaging';

/**
 * Whether this process can use its bus: the producer is connected and, for an app that consumes, the consumer has
 * joined its group (so a tick published now is seen). Fed by bootstrap from the transport's status.
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

  problems(): string[] {
    const problems: string[] = [];
    if (!this.publisher.isConnected()) problems.push('bus producer is not connected');
    if (this.consumerState === 'joining') problems.push('bus consumer has not joined its group yet');
    if (this.consumerState === 'lost') problems.push('bus consumer lost its connection');
    return problems;
  }
}
