// Page panels: modules contribute sections to shared pages (cohort home, week page, my courses)
// without those pages knowing every module. A panel names a partial and gives it a view model.
/**
 * The shared pages and what each gives its panels. The modules that own the pages declare them by declaration merging
 * (people: "my" and "admin"; cohorts: "cohort-home", "week" and "cohort-staff"), so this file knows no module.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface PanelPlaces {}

export type PanelPlace = keyof PanelPlaces;

/** What a panel renders: views/<partial>.hbs is rendered as a partial with `model`. */
export interface Panel {
  partial: string;
  model: Record<string, unknown>;
}

export interface PanelProvider<P extends PanelPlace> {
  /** Lower first. */
  order: number;
  render(args: PanelPlaces[P]): Promise<Panel | null>;
}

export interface Panels {
  register<P extends PanelPlace>(place: P, provider: PanelProvider<P>): void;
  /** Every non-null panel for the place, in order. */
  render<P extends PanelPlace>(place: P, args: PanelPlaces[P]): Promise<Panel[]>;
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
    async render(place, args) {
      const out: Panel[] = [];
      for (const p of providers.get(place) ?? []) {
        const panel = await (p as PanelProvider<typeof place>).render(args);
        if (panel) out.push(panel);
      }
      return out;
    },
  };
}
