/** A command asked for something this setup cannot do, or about something that does not exist: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
