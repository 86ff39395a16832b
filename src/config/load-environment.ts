// How the process reads its configuration at start: @nestjs/config's ConfigModule reads `.env` in the working
// directory (if there is one) and merges the real environment over it, so a variable set in the environment wins;
// the merged variables go through loadConfig, the one place that validates them. Nothing from `.env` is written into
// process.env, so the server's children (embedded Postgres, jobs) see only the real environment.
import { ConfigModule } from '@nestjs/config';
import { join } from 'node:path';
import { AppConfig, loadConfig } from './config';

/** `fallbacks`: values for variables neither the environment nor `.env` sets (a command that needs less than the server). */
export async function loadConfigFromEnvironment(roleArg?: string, cwd: string = process.cwd(), fallbacks: Record<string, string> = {}): Promise<AppConfig> {
  let config: AppConfig | undefined;
  await ConfigModule.forRoot({
    envFilePath: join(cwd, '.env'),
    expandVariables: false,
    validate: (merged) => {
      config = loadConfig({ ...fallbacks, ...(merged as NodeJS.ProcessEnv) }, roleArg);
      return {}; // ConfigModule copies what validate returns into process.env: nothing
    },
  });
  return config!;
}
