// Page panels: modules contribute sections to shared pages (cohort home, week page, my courses)
// without those pages knowing every module. A panel names a partial and gives it a view model.
import type { User } from '../modules/people/service.js';
import type { CohortAccess } from '../modules/cohorts/service.js';

export interface PanelPlaces {
  /** The cohort home (learners, instructors, admins). */
  'cohort-home': { access: CohortAccess; now: Date };
  /** A week page, for week `week`. */
  week: { access: CohortAccess; week: number; now: Date };
  /** The instructor's cohort page (the plan, who is enrolled, tools). */
  'cohort-staff': { access: CohortAccess; now: Date };
  /** "My courses", once per signed-in user. */
  my: { user: User; now: Date };
  /** The admin dashboard. */
  admin: { user: User; now: Date };
}

export type PanelPlace = keyof PanelPlaces;

/** What a panel renders: views/<partial>.hbs is rendered as a partial with `model`. */
export interface Panel {
  partial: string;
  model: Record<string, unknown>;
}

export interface PanelProvider<P extends PanelPlace> {
  /** Lower first. */
  order: number;
  render(args: PanelPlaces[P]): Panel | null;
}

export interface Panels {
  register<P extends PanelPlace>(place: P, provider: PanelProvider<P>): void;
  /** Every non-null panel for the place, in order. */
  render<P extends PanelPlace>(place: P, args: PanelPlaces[P]): Panel[];
}

export function createPanels(): Panels {
  const providers = new Map<PanelPlace, Array<PanelProvider<never>>>();
  return {
    register(place, provider) {
      const list = providers.get(place) ?? [];
      list.push(provider as PanelProvider<never>);
      list.sort((a, b) => a.order - b.order);
      providers.set(place, list);
    },
    render(place, args) {
      const out: Panel[] = [];
      for (const p of providers.get(place) ?? []) {
        const panel = (p as PanelProvider<typeof place>).render(args);
        if (panel) out.push(panel);
      }
      return out;
    },
  };
}
