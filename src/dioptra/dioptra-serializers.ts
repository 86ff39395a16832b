// Entities → Dioptra's reply shapes (reference §2.1). Times go through toDioptraTime so a POST reply and later GETs
// of the same row are byte-identical (the columns keep milliseconds).
import { toDioptraTime } from '../common/time';
import { ExperimentEntity } from '../experiments/experiment.entity';
import { QueueEntity } from '../queues/queue.entity';
import { DioptraExperimentDto, DioptraIdStatusDto, DioptraNameStatusDto, DioptraQueueDto } from './dioptra.dto';

export function toDioptraExperiment(e: ExperimentEntity): DioptraExperimentDto {
  return { experimentId: e.id, createdOn: toDioptraTime(e.createdAt)!, lastModified: toDioptraTime(e.lastModified)!, name: e.name };
}

export function toDioptraQueue(q: QueueEntity): DioptraQueueDto {
  return { queueId: q.id, createdOn: toDioptraTime(q.createdAt)!, lastModified: toDioptraTime(q.lastModified)!, name: q.name };
}

export function idStatus(ids: number[]): DioptraIdStatusDto {
  return { status: 'Success', id: ids };
}

export function nameStatus(names: string[]): DioptraNameStatusDto {
  return { status: 'Success', name: names };
}
