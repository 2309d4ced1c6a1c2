import { isUplinkKind, parseDeviceTopic, topics } from './topics.js';

describe('topics', () => {
  it('builds and parses device topics', () => {
    const t = topics.device('sh-1', 'robot-1', 'ack');
    expect(t).toBe('branch/sh-1/devices/robot-1/ack');
    expect(parseDeviceTopic(t)).toEqual({ branchId: 'sh-1', deviceId: 'robot-1', kind: 'ack' });
    expect(parseDeviceTopic('branch/sh-1/presence/robot-1')).toBeNull();
    expect(parseDeviceTopic('branch/sh-1/devices/robot-1/ack/extra')).toBeNull();
  });

  it('parses the same again and again, and thousands of others in between, the same way', () => {
    const many = Array.from({ length: 5000 }, (_, i) => [`branch/b${i}/devices/d${i}/state`, i % 7 ? `branch/b${i}/presence/d${i}` : `branch/b${i}/devices/d${i}/${'x'.repeat(300)}`]);
    const expected = many.map(([, other], i) => [{ branchId: `b${i}`, deviceId: `d${i}`, kind: 'state' }, other.length > 300 ? 300 : undefined]);
    for (let round = 0; round < 2; round++) expect(many.map(([device, other]) => [parseDeviceTopic(device), parseDeviceTopic(other)?.kind.length])).toEqual(expected);
  });

  it('knows the kinds a device may publish about itself', () => {
    expect(['state', 'footfall', 'ack', 'event'].every(isUplinkKind)).toBe(true);
    expect(['cmd', 'error', 'presence', 'State', ''].some(isUplinkKind)).toBe(false);
  });
});
