/** ui/data/topic-sparkplug.ts: Sparkplug B topics in the topic explorer and their decoded metrics. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findSparkplug, parseSparkplugTopic, type SparkplugNodeList } from '../../ui/data/topic-sparkplug.ts';

const metric = (name: string, value: number) => ({ name, alias: null, type: 'Double', value, timestamp: null, updated_at: null, stale: false });
const list: SparkplugNodeList = {
  total: 1,
  hosts: [{ host_id: 'scada', online: true, version: '3.0', at: null }],
  items: [{
    group: 'plant', edge_node: 'edge1', state: 'online', birth_seen: true, bd_seq: 0, last_seq: 3, seq_gaps: 0, messages: 4,
    last_message_at: null, metrics: [metric('temp', 21.5)],
    devices: [{ device: 'pump', state: 'online', birth_seen: true, messages: 2, last_message_at: null, metrics: [metric('rpm', 1200)] }],
  }],
};

describe('ui/data topic-sparkplug', () => {
  it('classifies node, device and host topics; anything else is null', () => {
    assert.deepEqual(parseSparkplugTopic('spBv1.0/plant/NDATA/edge1'), { kind: 'node', group: 'plant', messageType: 'NDATA', edgeNode: 'edge1' });
    assert.deepEqual(parseSparkplugTopic('spBv1.0/plant/DBIRTH/edge1/pump'), { kind: 'device', group: 'plant', messageType: 'DBIRTH', edgeNode: 'edge1', device: 'pump' });
    assert.deepEqual(parseSparkplugTopic('spBv1.0/STATE/scada'), { kind: 'state', hostId: 'scada' });
    for (const t of ['plant/a', 'spBv1.0/plant/NDATA/edge1/extra', 'spBv1.0/plant/DDATA/edge1', 'spBv1.0/plant/XDATA/e', 'spBv1.0//NDATA/e', 'spBv1.0/STATE']) {
      assert.equal(parseSparkplugTopic(t), null, t);
    }
  });

  it('finds the node, the device or the host that GET /sparkplug/nodes knows', () => {
    const node = findSparkplug(list, parseSparkplugTopic('spBv1.0/plant/NDATA/edge1')!);
    assert.equal(node.kind === 'node' && node.node.metrics[0]?.name, 'temp');
    const dev = findSparkplug(list, parseSparkplugTopic('spBv1.0/plant/DDATA/edge1/pump')!);
    assert.equal(dev.kind === 'device' && dev.device.metrics[0]?.value, 1200);
    assert.equal(findSparkplug(list, parseSparkplugTopic('spBv1.0/STATE/scada')!).kind, 'state');
    assert.equal(findSparkplug(list, parseSparkplugTopic('spBv1.0/plant/DDATA/edge1/valve')!).kind, 'unknown');
    assert.equal(findSparkplug(list, parseSparkplugTopic('spBv1.0/other/NDATA/edge1')!).kind, 'unknown');
  });
});
