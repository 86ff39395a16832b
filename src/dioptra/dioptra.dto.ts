import { ApiProperty } from '@nestjs/swagger';

/** Dioptra's Experiment (reference §2.1). Datetimes are naive UTC, `YYYY-MM-DDTHH:MM:SS[.ffffff]`. */
export class DioptraExperimentDto {
  @ApiProperty() experimentId: number;
  @ApiProperty({ example: '2020-08-17T18:46:28.717000' }) createdOn: string;
  @ApiProperty({ example: '2020-08-17T18:46:28.717000' }) lastModified: string;
  @ApiProperty() name: string;
}

/** Dioptra's Queue (reference §2.1); the lock state is not part of it. */
export class DioptraQueueDto {
  @ApiProperty() queueId: number;
  @ApiProperty({ example: '2020-08-17T18:46:28.717000' }) createdOn: string;
  @ApiProperty({ example: '2020-08-17T18:46:28.717000' }) lastModified: string;
  @ApiProperty() name: string;
}

/** `{"status": "Success", "id": [...]}`; the list is empty when nothing was affected. */
export class DioptraIdStatusDto {
  @ApiProperty({ example: 'Success' }) status: string;
  @ApiProperty({ type: [Number] }) id: number[];
}

/** `{"status": "Success", "name": [...]}`; the list is empty when nothing was affected. */
export class DioptraNameStatusDto {
  @ApiProperty({ example: 'Success' }) status: string;
  @ApiProperty({ type: [String] }) name: string[];
}

/** Registration and rename body: JSON `{"name": ...}`, or a form field `name` (urlencoded or multipart). */
export class DioptraNameBodyDto {
  @ApiProperty() name: string;
}
