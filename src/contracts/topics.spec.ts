import { parseDeviceTopic, topicMatches, topics } from './topics.js';

describe('topics', () => {
  it('builds and parses device topics', () => {
    const t = topics.device('sh-1', 'robot-1', 'ack');
    expect(t).toBe('branch/sh-1/devices/robot-1/ack');
    expect(parseDeviceTopic(t)).toEqual({ branchId: 'sh-1', deviceId: 'robot-1', kind: 'ack' });
    expect(parseDeviceTopic('branch/sh-1/presence/robot-1')).toBeNull();
    expect(parseDeviceTopic('branch/sh-1/devices/robot-1/ack/extra')).toBeNull();
  });

  it('matches MQTT wildcards as the spec says', () => {
    expect(topicMatches('branch/+/devices/+/state', 'branch/b/devices/d/state')).toBe(true);
    expect(topicMatches('branch/+/devices/+/state', 'branch/b/devices/d/ack')).toBe(false);
    expect(topicMatches('branch/b/presence/#', 'branch/b/presence/d')).toBe(true);
    expect(topicMatches('branch/+/devices/+/state', 'branch/b/devices/d/state/x')).toBe(false);
  });
});
