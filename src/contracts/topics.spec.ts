import { isUplinkKind, parseDeviceTopic, topics } from './topics.js';

describe('topics', () => {
  it('builds and parses device topics', () => {
    const t = topics.device('sh-1', 'robot-1', 'ack');
    expect(t).toBe('branch/sh-1/devices/robot-1/ack');
    expect(parseDeviceTopic(t)).toEqual({ branchId: 'sh-1', deviceId: 'robot-1', kind: 'ack' });
    expect(parseDeviceTopic('branch/sh-1/presence/robot-1')).toBeNull();
    expect(parseDeviceTopic('branch/sh-1/devices/robot-1/ack/extra')).toBeNull();
  });

  it('knows the kinds a device may publish about itself', () => {
    expect(['state', 'footfall', 'ack', 'event'].every(isUplinkKind)).toBe(true);
    expect(['cmd', 'error', 'presence', 'State', ''].some(isUplinkKind)).toBe(false);
  });
});
