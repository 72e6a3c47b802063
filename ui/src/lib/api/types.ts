// Shapes of docs/api.md (branch `api`). Clients ignore fields they do not know.

export interface Folder {
  id: number;
  path: string;
  online: boolean;
  last_scan_at: string | null;
  watch?: 'native' | 'polling' | 'offline' | null;
  /** In the answer to folders_add: false when the folder was there already. */
  added?: boolean;
}

export interface Progress {
  kind: string;
  done: number;
  total: number;
  rate: number | null;
  eta_seconds: number | null;
}

export interface DownloadState {
  name: string;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  file?: string | null;
  done_bytes: number;
  total_bytes: number | null;
  error?: string | null;
}

export interface LiveState {
  running: boolean;
  paused: string[];
  queued_paths: number;
  progress: Progress[];
  jobs: { kind: string; key: string; state: string; [k: string]: unknown }[];
  /** How each folder is followed (docs/api.md, `status` → `live.watch`). */
  watch: { root_id: number; path: string; mode: string; reason: string | null; updated_at: string }[];
}

export interface Status {
  library: string;
  photos: number;
  files: number;
  errors: number;
  /** Files in a format not read yet (not errors). */
  unsupported?: number;
  warnings: number;
  offline: number;
  pending: number;
  embedded: number;
  pending_embeddings: number;
  model: string | null;
  /** The model being embedded to replace `model` (search keeps `model` until it is done). */
  switching_to?: string | null;
  switch_remaining?: number;
  folders: number;
  offline_folders: number;
  roots: Folder[];
  live: LiveState;
  download: DownloadState | null;
}

export interface FirstRun {
  needed: boolean;
  folders: number;
  model: string | null;
  model_ready: boolean;
  default_model: { name: string; download_mb: number; downloaded: boolean };
  offline_note: string;
}

export interface ErrorEntry {
  path: string;
  reason: string;
  kind: 'error' | 'unsupported' | 'folder' | 'warning' | 'embed' | string;
}

export interface PhotoRef {
  id: number;
  width: number;
  height: number;
  taken_at: string | null;
}

export interface MonthBucket {
  month: string | null;
  count: number;
  offset: number;
}

export interface TimelinePage {
  total: number;
  months?: MonthBucket[];
  offset: number;
  limit: number;
  photos: PhotoRef[];
}

export type TagSource = 'auto' | 'user' | 'imported';

export interface PhotoTag {
  tag: string;
  name: string;
  score: number | null;
  source: TagSource;
}

export interface PhotoFile {
  path: string;
  bytes: number;
  online: boolean;
}

export interface Photo {
  id: number;
  hash: string;
  width: number;
  height: number;
  format: string;
  taken_at: string | null;
  taken_at_source: string | null;
  camera_make: string | null;
  camera_model: string | null;
  lens: string | null;
  gps: { lat: number; lon: number } | null;
  place: string | null;
  orientation: number;
  bytes: number;
  offline: boolean;
  files: PhotoFile[];
  paths: string[];
  tags: PhotoTag[];
  rejected: string[];
}

export interface Reveal {
  id: number;
  path: string;
  /** Set by the desktop shell: it already opened the folder in the OS file manager. */
  revealed?: boolean;
  folder: string;
  online: boolean;
}

export interface QueryFilters {
  after: string | null;
  before: string | null;
  months: number[];
  folders: string[];
  cameras: string[];
  tags: string[];
  has_gps: boolean | null;
  types: string[];
  like: number | null;
  [key: string]: unknown;
}

export interface StructuredQuery {
  text: string;
  negative: string[];
  filters: QueryFilters;
}

export interface Chip {
  field: string;
  value: unknown;
  label: string;
}

export interface SearchHit extends PhotoRef {
  score: number | null;
  path: string;
}

export interface SearchResponse {
  query: StructuredQuery;
  chips: Chip[];
  /** The query in the query language (what the search box shows for it). */
  query_text: string;
  results: SearchHit[];
  total: number;
  candidates: number;
  cutoff: { min_score: number; median: number; spread: number } | null;
  more: boolean;
  sort: 'relevance' | 'date';
  offset: number;
  limit: number;
}

export interface SearchArgs {
  q?: string;
  query?: StructuredQuery;
  limit?: number;
  offset?: number;
  sort?: 'relevance' | 'date';
  all?: boolean;
  min_score?: number | null;
}

export interface TagInfo {
  tag: string;
  name: string;
  parents: string[];
  group: boolean;
  custom: boolean;
  keyword: boolean;
  count: number;
  auto: number;
  user: number;
  imported: number;
  rejected: number;
}

export interface TagPhoto extends PhotoRef {
  source: TagSource;
  score: number | null;
}

export interface TagPhotos {
  tag: string;
  total: number;
  offset: number;
  limit: number;
  photos: TagPhoto[];
}

export type TagAction = 'add' | 'confirm' | 'remove' | 'reject';

export interface TagChange {
  id: number;
  tag: string;
  action: TagAction;
  was_on: boolean;
  tags: PhotoTag[];
}

export interface CustomTag {
  tag: string;
  name: string;
  kind: string;
  description: string | null;
  parent: string | null;
  examples: number;
}

export type Tier = 'exact' | 'near' | 'similar';

export interface DupeMember {
  id: number;
  photo_id: number;
  path: string;
  paths: string[];
  width: number;
  height: number;
  bytes: number;
  format?: string;
  taken_at: string | null;
  hash: string;
  keep: boolean;
}

export type Difference = 'resolution' | 'bytes' | 'format' | 'taken_at' | 'folder';

export interface DupeGroup {
  id: string;
  tier: Tier;
  kind: 'copies' | 'photos' | string;
  keep: number;
  reason: string;
  notes: string[];
  /** Every pair holds by pixels or hashes; false when the image embedding
   * had to confirm one: "resolve all" leaves such a group to the user. */
  certain: boolean;
  differs: Difference[];
  members: DupeMember[];
}

export interface Dupes {
  counts: Record<Tier, number>;
  groups: DupeGroup[];
}

export interface Resolution {
  group: string;
  tier: Tier;
  kind: string;
  keep: number;
  keep_path: string;
  reason: string;
  trash: string[];
  dry_run: boolean;
  trashed: string[];
  skipped: unknown[];
  action: number | null;
}

export interface ResolveAll {
  tier: Tier;
  dry_run: boolean;
  groups: Resolution[];
}

export interface DupeDecision {
  group: string;
  tier: Tier;
  decision: 'keep_all' | 'not_duplicates';
}

export interface DupeAction {
  id: number;
  group_id: string;
  tier: Tier;
  kept: string;
  files: string[];
  at: string;
  undone: boolean;
}

export interface Settings {
  xmp: { write_on_change: boolean; naming: 'append' | 'replace' };
  thumbnails: { bytes: number; files: number };
  library: string;
  /** The device in use (after any fallback). */
  device: string;
  /** What is chosen: auto, cpu, cuda or metal. */
  device_choice?: string;
  devices?: string[];
  /** Why the chosen accelerator is not in use (the CPU runs instead). */
  device_reason?: string | null;
  /** Fixed at start (`--device` / SHOEBOX_DEVICE): the setting cannot change it. */
  device_locked?: boolean;
}

export interface SettingsPatch {
  xmp?: Partial<Settings['xmp']>;
  device?: string;
}

export interface ModelInfo {
  name: string;
  repo: string;
  family: string;
  default: boolean;
  active: boolean;
  downloaded: boolean;
  download_mb: number | null;
  embedded: number;
  notes?: string;
  default_on_gpu?: boolean;
  /** `multilingual`, or language codes. */
  languages?: string[];
  licence?: string;
  /** Image-tower cost relative to the CPU default. */
  relative_cost?: number | null;
  /** Published text-to-image recall per language code. */
  recall?: Record<string, number> | null;
}

export interface Models {
  active: string | null;
  models: ModelInfo[];
  download: DownloadState | null;
}

export interface ModelChoice {
  active: string;
  key: string;
  dim: number;
}

// Events (docs/api.md "Events").
export type LiveEvent =
  | ({ event: 'progress' } & Progress)
  | { event: 'idle'; paused?: string[] }
  | { event: 'paused'; kinds: string[] }
  | { event: 'job_failed'; kind: string; key: string; error: string; retry: boolean | number | null }
  | { event: 'watch'; root: string; mode: string; reason: string | null }
  | { event: 'changed'; what: string; ids?: number[] }
  | ({ event: 'download' } & DownloadState)
  | { event: 'stopped' };
