import { ArchiveError } from './archive';
import { WorkflowInvalidError, WorkflowUnsafeError, workflowErrorFrom } from './workflow.errors';

describe('workflowErrorFrom', () => {
  it('maps unsafe archives to WORKFLOW_UNSAFE and the rest to WORKFLOW_INVALID, keeping the message', () => {
    const unsafe = workflowErrorFrom(new ArchiveError("member '../x' has an absolute path or a '..' step", true));
    expect(unsafe).toBeInstanceOf(WorkflowUnsafeError);
    expect(unsafe.code).toBe('WORKFLOW_UNSAFE');
    expect(unsafe.message).toBe("member '../x' has an absolute path or a '..' step");
    const invalid = workflowErrorFrom(new ArchiveError('workflow is not a tar, tar.gz or zip archive', false));
    expect(invalid).toBeInstanceOf(WorkflowInvalidError);
    expect(invalid.code).toBe('WORKFLOW_INVALID');
    expect(invalid.message).toBe('workflow is not a tar, tar.gz or zip archive');
  });
});
