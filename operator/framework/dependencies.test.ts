import { describe, expect, it } from 'vitest';
import { DependencyIndex } from './dependencies.js';

describe('the dependency index', () => {
  it('finds the dependents of a dependency, following changes of what they refer to', () => {
    const index = new DependencyIndex();
    index.set('Subnet/nebula/a', ['Network/nebula/net', 'Project/nebula/p']);
    index.set('Port/nebula/b', ['Network/nebula/net']);
    expect(index.dependentsOf('Network/nebula/net').sort()).toEqual(['Port/nebula/b', 'Subnet/nebula/a']);
    expect(index.dependentsOf('Project/nebula/p')).toEqual(['Subnet/nebula/a']);
    // The subnet now names another network: the old one no longer queues it.
    index.set('Subnet/nebula/a', ['Network/nebula/other']);
    expect(index.dependentsOf('Network/nebula/net')).toEqual(['Port/nebula/b']);
    expect(index.dependentsOf('Project/nebula/p')).toEqual([]);
    expect(index.dependentsOf('Network/nebula/other')).toEqual(['Subnet/nebula/a']);
    index.set('Port/nebula/b', []);
    expect(index.dependentsOf('Network/nebula/net')).toEqual([]);
  });
});
