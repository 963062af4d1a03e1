import { GroupCommit } from '../group-commit.js';
import type { NewEvent } from '../store/release-store.js';
import type { AccessStore } from '../store/access-store.js';

/**
 * The events requests record (the audit trail's, the update check's), committed in groups (group-commit.ts).
 * `append` resolves once its event is committed, so a request still answers only after its event is stored.
 */
export class EventWriter {
  private readonly group: GroupCommit<NewEvent, undefined>;

  constructor(access: Pick<AccessStore, 'appendEvents'>, written: () => void) {
    this.group = new GroupCommit(async (events) => {
      await access.appendEvents(events);
      written();
      return events.map(() => undefined);
    });
  }

  append(event: NewEvent): Promise<undefined> {
    return this.group.submit(event);
  }
}
