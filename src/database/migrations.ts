// Every migration, in order. Add new ones at the end.
import { UsersAndAuth1764500000000 } from './migrations/1764500000000-users-and-auth';
import { ExperimentsQueuesBlobs1764500100000 } from './migrations/1764500100000-experiments-queues-blobs';
import { TaskPlugins1764500200000 } from './migrations/1764500200000-task-plugins';
import { Jobs1764500300000 } from './migrations/1764500300000-jobs';
import { BlobChunks1764620000000 } from './migrations/1764620000000-blob-chunks';
import { QueueSandbox1764630000000 } from './migrations/1764630000000-queue-sandbox';
import { Tracking1764640000000 } from './migrations/1764640000000-tracking';
import { LoginSessionTokenHash1764660000000 } from './migrations/1764660000000-login-session-token-hash';
import { QueueLimits1764740000000 } from './migrations/1764740000000-queue-limits';
import { ExperimentStatsIndexes1764720000000 } from './migrations/1764720000000-experiment-stats-indexes';

export const MIGRATIONS: Function[] = [
  UsersAndAuth1764500000000,
  ExperimentsQueuesBlobs1764500100000,
  TaskPlugins1764500200000,
  Jobs1764500300000,
  BlobChunks1764620000000,
  QueueSandbox1764630000000,
  Tracking1764640000000,
  LoginSessionTokenHash1764660000000,
  QueueLimits1764740000000,
  ExperimentStatsIndexes1764720000000,
];
