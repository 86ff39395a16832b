import { ConsoleLogger, LogLevel } from '@nestjs/common';

export const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/**
 * Contexts whose `log` lines are start-up detail, not news: Nest's module inits and route mappings (a hundred lines
 * per start), and the lines the start banner already sums up. They are written at `debug`; their warnings and
 * errors are untouched.
 */
const DETAIL_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
  'NestMicroservice',
  'RunTracker',
  'JobSandbox',
  'TaskPluginsService',
  'EmbeddedPostgres',
  'EmbeddedRedis',
]);

/** The process's logger: Nest's console logger with start-up detail moved to debug. */
export class AppLogger extends ConsoleLogger {
  /** `toStderr`: every line to standard error (commands whose standard output is their answer). */
  constructor(
    level: string,
    private readonly toStderr = false,
  ) {
    super({ logLevels: LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level as LogLevel) + 1) });
  }

  protected override printMessages(messages: unknown[], context?: string, logLevel?: LogLevel, writeStreamType?: 'stdout' | 'stderr', errorStack?: unknown): void {
    super.printMessages(messages, context, logLevel, this.toStderr ? 'stderr' : writeStreamType, errorStack);
  }

  override log(message: unknown, ...rest: unknown[]): void {
    const context = rest.length > 0 ? rest[rest.length - 1] : this.context;
    if (typeof context === 'string' && DETAIL_CONTEXTS.has(context)) {
      super.debug(message, ...rest);
      return;
    }
    super.log(message, ...rest);
  }

  /**
   * Start-up failures are reported once, with their cause, by main.ts: Nest's ExceptionHandler dump of the same error
   * goes to debug, and TypeORM's connection retries keep their one line (the message names the cause) without a stack.
   */
  override error(message: unknown, ...rest: unknown[]): void {
    const context = rest.length > 0 ? rest[rest.length - 1] : this.context;
    if (context === 'ExceptionHandler') return super.debug(message, ...rest);
    if (context === 'TypeOrmModule' && rest.length === 2) return super.error(message, context);
    super.error(message, ...rest);
  }
}
