import { Body, Controller, HttpCode, Post, UploadedFile, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiTags } from '@nestjs/swagger';
import { InspectWorkflowFormDto, InspectWorkflowReplyDto } from './jobs.dto';
import { JobsService } from './jobs.service';
import { WorkflowUploadInterceptor } from './workflow-upload.interceptor';

@ApiTags('Jobs')
@ApiBearerAuth()
@Controller('api/v1/workflows')
export class WorkflowsController {
  constructor(private readonly jobs: JobsService) {}

  /**
   * The entry points and parameters of a workflow archive's MLproject, for a submission form; nothing is stored. An
   * archive a submission would refuse gets the same 400 (the same checks and texts).
   */
  @Post('inspect')
  @HttpCode(200)
  @UseInterceptors(WorkflowUploadInterceptor)
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: InspectWorkflowFormDto })
  async inspect(@Body() _form: InspectWorkflowFormDto, @UploadedFile() file?: Express.Multer.File): Promise<InspectWorkflowReplyDto> {
    const workflow = file ? { path: file.path, size: file.size, originalName: file.originalname } : null;
    return { entryPoints: await this.jobs.inspectWorkflow(workflow) };
  }
}
