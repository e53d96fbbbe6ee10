import { ServiceError, type ChatPort } from '../core/ports.js';

/**
 * The chat the leader-only delivery posts through: each post or update first asks whether this replica surely still
 * holds its lease (by its own clock, with a margin). A leader that was paused past its lease (a long GC, a stopped VM)
 * and wakes up in the middle of a delivery posts nothing: the entry stays "in doubt" and the new leader reads it back.
 */
export function leaderChat(chat: ChatPort, surelyLeading: () => boolean): ChatPort {
  const refuse = () => new ServiceError('slack', 'not posted: this replica no longer surely holds the leader lease', { rejected: true, kind: 'transient' });
  return {
    postMessage: async (o) => {
      if (!surelyLeading()) throw refuse();
      return chat.postMessage(o);
    },
    updateMessage: async (o) => {
      if (!surelyLeading()) throw refuse();
      return chat.updateMessage(o);
    },
    readBack: (o) => chat.readBack(o),
    postEphemeral: (o) => chat.postEphemeral(o),
    permalink: (c, ts) => chat.permalink(c, ts),
  };
}
