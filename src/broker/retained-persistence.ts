import type { AedesPublishPacket as Packet } from 'aedes';
import MemoryPersistence from 'aedes-persistence/asyncPersistence.js';
import { Readable } from 'node:stream';

/** One topic level; `packet` is set when a retained message sits at exactly this topic. */
interface Level {
  children: Map<string, Level>;
  packet?: Packet;
  /** Insertion order: the stock store is a Map and hands matches out in that order (an update keeps its place, a delete loses it). */
  seq: number;
}

const level = (): Level => ({ children: new Map(), seq: 0 });

/**
 * Retained messages by topic, and as a tree of topic levels. The stock store tests every retained message
 * against each new subscription with a fresh qlobber; the hub retains one presence per device, so that
 * made every SUBSCRIBE cost O(devices). Here a filter without wildcards is one Map lookup, and a wildcard
 * filter walks only the levels it can match (`branch/b1/presence/+` visits branch b1's presences).
 * Matching is qlobber's as aedes-persistence configures it: `+` is one non-empty level, `#` any number
 * of levels (none too), and a leading wildcard matches `$` topics as well (aedes filters those only
 * on live delivery).
 */
export class RetainedTopics {
  private readonly byTopic = new Map<string, Level>();
  private readonly root = level();
  private seq = 0;

  set(packet: Packet): void {
    let node = this.byTopic.get(packet.topic);
    if (!node) {
      node = this.root;
      for (const word of packet.topic.split('/')) {
        let next: Level | undefined = node.children.get(word);
        if (!next) node.children.set(word, (next = level()));
        node = next;
      }
      node.seq = ++this.seq;
      this.byTopic.set(packet.topic, node);
    }
    node.packet = packet;
  }

  delete(topic: string): void {
    if (!this.byTopic.delete(topic)) return;
    const path = [this.root];
    const words = topic.split('/');
    for (const word of words) path.push(path[path.length - 1].children.get(word)!);
    path[path.length - 1].packet = undefined;
    // Drop the levels nothing is retained under any more, so deleted topics do not pile up.
    for (let i = words.length; i > 0 && !path[i].packet && !path[i].children.size; i--) path[i - 1].children.delete(words[i - 1]);
  }

  match(filter: string): Packet[] {
    const words = filter.split('/');
    if (!words.includes('+') && !words.includes('#')) {
      const packet = this.byTopic.get(filter)?.packet;
      return packet ? [packet] : [];
    }
    const found = new Set<Level>(); // a Set: `#` followed by more levels can reach a topic twice
    collect(this.root, words, 0, found);
    return [...found].sort((a, b) => a.seq - b.seq).map((n) => n.packet!);
  }
}

function collect(node: Level, words: string[], i: number, found: Set<Level>): void {
  if (i === words.length) {
    if (node.packet) found.add(node);
    return;
  }
  const word = words[i];
  if (word === '#') return collectSome(node, words, i + 1, found);
  if (word !== '+') {
    const next = node.children.get(word);
    if (next) collect(next, words, i + 1, found);
    return;
  }
  for (const [w, next] of node.children) if (w !== '') collect(next, words, i + 1, found);
}

/** `#`: the rest of the filter (from `i`) matched here and at every level below. */
function collectSome(node: Level, words: string[], i: number, found: Set<Level>): void {
  collect(node, words, i, found);
  for (const next of node.children.values()) collectSome(next, words, i, found);
}

/** aedes-persistence's in-memory persistence with retained messages in {@link RetainedTopics}. */
export class HubPersistence extends MemoryPersistence {
  private readonly retained = new RetainedTopics();

  override async storeRetained(pkt: Packet): Promise<void> {
    const packet = Object.assign({}, pkt); // a copy, as the stock store keeps: aedes reuses the packet
    if (packet.payload.length === 0) this.retained.delete(packet.topic);
    else this.retained.set(packet);
  }

  override createRetainedStream(pattern: string): Readable {
    return Readable.from(this.retained.match(pattern));
  }

  override createRetainedStreamCombi(patterns: string[]): Readable {
    return Readable.from(patterns.flatMap((p) => this.retained.match(p)));
  }
}
