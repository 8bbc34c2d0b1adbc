// stages/import/main.ts — bring your own interaction logs: CSV / TSV / Parquet / RecBole atomic files →
// a TAAC-format raw folder (seq.jsonl, indexer.pkl, seq_offsets.pkl, item_feat_dict.json, import.json)
// that ingest reads unchanged. Not in the default pipeline: put it in front of ingest (README).
import { writeDirAtomic } from '../../core/stage/atomic.ts';
import { runStage } from '../../core/stage/cli.ts';
import { UserError } from '../../core/stage/errors.ts';
import { Progress } from '../../core/stage/progress.ts';
import { ROLES, spellingsHelp, type Role, type RoleFlags } from './columns.ts';
import { importInteractions, type ImportOptions } from './import.ts';

const USAGE = `usage: npx tsx stages/import/main.ts <interactions-file> <out-raw-dir> [flags]

Reads CSV (.csv), TSV (.tsv), Parquet (.parquet) or a RecBole atomic file (name.inter, with name.item /
name.user beside it read as item / user features) and writes a TAAC-format folder for ingest.

flags:
  --user COL        the user id column      --item COL     the item id column
  --time COL        the timestamp column    --action COL   the action column (values 0, 1, 2)
  --rating COL      a rating column (read only through --action-map)
  --action-map MAP  rows → action 0/1/2 or drop, first matching rule wins, e.g.
                    'rating>=4:1,else:0'  'view:0,click:1,buy:2'  'rating>=3:1,else:drop'
  --delimiter C     field delimiter of a text file (default: tab for .tsv/.inter, comma for .csv,
                    else sniffed from the header)

columns recognised without flags (case, spaces and hyphens ignored, RecBole ':type' suffixes stripped):
${spellingsHelp()}

Without a time column, file order is the time (synthetic timestamps 1 s apart). Without an action
column or --action-map, every row is a click. Users and items are re-indexed from 1 in order of first
appearance; each user's events are ordered by (timestamp, file order). Then set raw_dir to the output
folder and mm_emb_id: [] (imported data has no creative_emb/).
`;

function parseArgs(argv: string[]): { input: string; outDir: string; opts: ImportOptions } {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const roles: RoleFlags = {};
  let actionMap: string | null = null;
  let delimiter: string | undefined;
  const positional: string[] = [];
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const value = argv[++k];
    if (value === undefined) throw new UserError(`${a} needs a value (see --help)`);
    const flag = a.slice(2);
    if ((ROLES as readonly string[]).includes(flag)) roles[flag as Role] = value;
    else if (flag === 'action-map') actionMap = value;
    else if (flag === 'delimiter') delimiter = value === '\\t' ? '\t' : value;
    else if (flag === 'params') continue; // import reads no params; accepted like every stage
    else throw new UserError(`unknown flag ${a} (see --help)`);
  }
  if (positional.length !== 2) throw new UserError(`usage: import <interactions-file> <out-raw-dir> [flags] (got ${positional.length} paths; see --help)`);
  return { input: positional[0]!, outDir: positional[1]!, opts: { roles, actionMap, delimiter } };
}

runStage('import', async () => {
  const { input, outDir, opts } = parseArgs(process.argv.slice(2));
  const progress = new Progress('import');
  const s = await writeDirAtomic(outDir, (tmp) => importInteractions(input, tmp, opts, progress));
  for (const n of s.notices) process.stderr.write(`[import] notice: ${n}\n`);
  const a = s.actions;
  progress.done(
    `${s.rows} rows (${s.format}${s.rows_dropped ? `, ${s.rows_dropped} dropped` : ''}) -> ${s.users} users, ${s.items} items, ` +
      `${s.events} item records (exposure/click/conversion ${a.exposure}/${a.click}/${a.conversion}), ` +
      `${s.features.length} feature(s), ${s.profile_records} user-profile record(s) -> ${outDir}`,
  );
});
