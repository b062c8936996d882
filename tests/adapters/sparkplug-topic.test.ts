/**
 * Sparkplug B topic classification (Sparkplug 3.0 §4.1): namespace/group_id/message_type/
 * edge_node_id[/device_id], plus the Host Application STATE topics of 3.0 and 2.2.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifySparkplugTopic, inSparkplugNamespace } from '../../adapters/observer/sparkplug-topic.ts';

describe('classifySparkplugTopic', () => {
  it('reads node messages: spBv1.0/<group>/N*/<edge_node> [tck-id-topic-structure]', () => {
    for (const type of ['NBIRTH', 'NDEATH', 'NDATA', 'NCMD'] as const) {
      assert.deepEqual(classifySparkplugTopic(`spBv1.0/plant 1/${type}/edge-1`), { kind: 'node', group: 'plant 1', type, edgeNode: 'edge-1' });
    }
  });

  it('reads device messages: spBv1.0/<group>/D*/<edge_node>/<device>', () => {
    for (const type of ['DBIRTH', 'DDEATH', 'DDATA', 'DCMD'] as const) {
      assert.deepEqual(classifySparkplugTopic(`spBv1.0/g/${type}/n/pump-3`), { kind: 'device', group: 'g', type, edgeNode: 'n', device: 'pump-3' });
    }
  });

  it('reads Host Application STATE in the 3.0 form spBv1.0/STATE/<host> and the 2.2 form STATE/<host>', () => {
    assert.deepEqual(classifySparkplugTopic('spBv1.0/STATE/scada-1'), { kind: 'state', hostId: 'scada-1', version: '3.0' });
    assert.deepEqual(classifySparkplugTopic('STATE/scada-1'), { kind: 'state', hostId: 'scada-1', version: '2.2' });
  });

  it('refuses malformed Sparkplug topics [tck-id-topic-structure-namespace-device-id-associated-message-types]', () => {
    for (const topic of [
      'spBv1.0', 'spBv1.0/', 'spBv1.0/g', 'spBv1.0/g/NBIRTH', 'spBv1.0/g/NBIRTH/', 'spBv1.0//NBIRTH/n',
      'spBv1.0/g/NBIRTH/n/device', // node messages carry no device_id
      'spBv1.0/g/DBIRTH/n', 'spBv1.0/g/DDATA/n/', // device messages need one
      'spBv1.0/g/DDATA/n/d/extra', 'spBv1.0/g/NFOO/n', 'spBv1.0/g/nbirth/n',
      'spBv1.0/STATE', 'spBv1.0/STATE/', 'spBv1.0/STATE/a/b', 'STATE', 'STATE/', 'STATE/a/b',
    ]) {
      assert.equal(classifySparkplugTopic(topic), null, topic);
    }
  });

  it('ignores topics outside the namespace, and says which failures are worth counting', () => {
    assert.equal(classifySparkplugTopic('spAv1.0/g/NBIRTH/n'), null);
    assert.equal(classifySparkplugTopic('plant/spBv1.0/g/NBIRTH/n'), null);
    assert.equal(inSparkplugNamespace('spBv1.0/g/NFOO/n'), true);
    assert.equal(inSparkplugNamespace('STATE/a/b'), false);
    assert.equal(inSparkplugNamespace('spBv1.0'), false);
  });
});
