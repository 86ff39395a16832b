// The job sandbox (DESIGN.md "The job sandbox"): imported by the runner only. Must not import runner/ or any face.
import { Module } from '@nestjs/common';
import { SandboxService } from './sandbox.service';

@Module({ providers: [SandboxService], exports: [SandboxService] })
export class SandboxModule {}
