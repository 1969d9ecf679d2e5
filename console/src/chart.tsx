import { useEffect, useRef } from 'preact/hooks';
import type uPlot from 'uplot';

export interface Series {
  label: string;
  /** x values: seconds since the epoch for time axes, or plain numbers (steps). */
  x: number[];
  y: number[];
}

/**
 * A line or bar chart drawn by uPlot, loaded on first use (its own chunk: the initial load stays
 * small). The summary in `label` is the chart's text alternative.
 */
export function Chart({ series, label, time = true, bars = false }: { series: Series; label: string; time?: boolean; bars?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    let gone = false;
    void Promise.all([import('uplot')]).then(([{ default: UPlot }]) => {
      const el = box.current;
      if (gone || !el) return;
      plot.current?.destroy();
      const width = Math.max(240, el.clientWidth);
      plot.current = new UPlot(
        {
          width,
          height: 220,
          scales: { x: { time } },
          legend: { show: false },
          series: [
            {},
            {
              label: series.label,
              stroke: '#2563eb',
              width: 2,
              fill: bars ? 'rgba(37,99,235,0.35)' : undefined,
              ...(bars ? { paths: UPlot.paths.bars!({ size: [0.6, 40] }), points: { show: false } } : {}),
            },
          ],
          axes: [{}, { size: 60 }],
        },
        [series.x, series.y],
        el,
      );
    });
    return () => {
      gone = true;
      plot.current?.destroy();
      plot.current = null;
    };
  }, [series, time, bars]);
  return <div class="chart" ref={box} role="img" aria-label={label} />;
}
