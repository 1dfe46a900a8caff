import type { ProjectionDefinition } from './types.js';

/**
 * Which projections fold an event, by its stream and type: computed once per type, so a
 * fold asks only the projections that declared the type (or declared no types at all).
 */
export class ProjectionRouting {
  private readonly byStream = new Map<string, { all: ProjectionDefinition[]; byType: Map<string, ProjectionDefinition[]> }>();

  constructor(definitions: readonly ProjectionDefinition[]) {
    for (const definition of definitions) {
      for (const stream of new Set(definition.streams)) {
        const route = this.byStream.get(stream) ?? { all: [] as ProjectionDefinition[], byType: new Map<string, ProjectionDefinition[]>() };
        route.all.push(definition);
        this.byStream.set(stream, route);
      }
    }
  }

  streams(): string[] {
    return [...this.byStream.keys()];
  }

  /** The projections that fold events of `type` read from `stream`. */
  projectionsFor(stream: string, type: string): readonly ProjectionDefinition[] {
    const route = this.byStream.get(stream);
    if (!route) return [];
    let definitions = route.byType.get(type);
    if (!definitions) {
      definitions = route.all.filter((definition) => !definition.types || definition.types.includes(type));
      route.byType.set(type, definitions);
    }
    return definitions;
  }
}
