// Every migration, in order. Add new ones at the end.
import { UsersAndAuth1764500000000 } from './migrations/1764500000000-users-and-auth';
import { ExperimentsQueuesBlobs1764500100000 } from './migrations/1764500100000-experiments-queues-blobs';

export const MIGRATIONS: Function[] = [UsersAndAuth1764500000000, ExperimentsQueuesBlobs1764500100000];
