import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import Dupes from '../screens/Dupes.svelte';
import { flush, makeApp, renderWith } from '../test/fake';
import type { DupeGroup } from '../lib/api/types';

const near: DupeGroup = {
  id: 'n1', tier: 'near', kind: 'photos', keep: 17, reason: 'highest resolution (4032×3024 vs 1600×1200)', notes: [], certain: true,
  differs: ['resolution', 'bytes'],
  members: [
    { id: 17, photo_id: 17, path: '/p/IMG_0042.jpg', paths: ['/p/IMG_0042.jpg'], width: 4032, height: 3024, bytes: 3481920, taken_at: '2021-07-04T16:20:00+02:00', hash: 'a', keep: true },
    { id: 22, photo_id: 22, path: '/p/IMG_0042-small.jpg', paths: ['/p/IMG_0042-small.jpg'], width: 1600, height: 1200, bytes: 312000, taken_at: '2021-07-04T16:20:00+02:00', hash: 'b', keep: false },
  ],
};
const near2: DupeGroup = { ...near, id: 'n2', members: near.members.map((m) => ({ ...m, id: m.id + 100, photo_id: m.photo_id + 100, path: m.path.replace('IMG', 'DSC') })), keep: 117 };

function setup(initial: DupeGroup[] = [near, near2], param = 'near') {
  let groups = initial;
  const { app, transport } = makeApp({
    dupes: (a) => ({ counts: { exact: 0, near: groups.length, similar: 1 }, groups: groups.filter((g) => !a.tier || g.tier === a.tier) }),
    dupes_resolve: (a) => {
      const g = groups.find((x) => x.id === a.group)!;
      const keep = a.keep ?? g.keep;
      const trash = g.members.filter((m) => m.id !== keep).map((m) => m.path);
      if (!a.dry_run) groups = groups.filter((x) => x.id !== a.group);
      return { group: g.id, tier: g.tier, kind: g.kind, keep, keep_path: g.members.find((m) => m.id === keep)!.path, reason: g.reason, trash, dry_run: a.dry_run, trashed: a.dry_run ? [] : trash, skipped: [], action: a.dry_run ? null : 1 };
    },
    dupes_resolve_all: (a) => {
      const plans = groups.map((g) => ({ group: g.id, tier: g.tier, kind: g.kind, keep: g.keep, keep_path: g.members[0].path, reason: g.reason, trash: [g.members[1].path], dry_run: a.dry_run, trashed: a.dry_run ? [] : [g.members[1].path], skipped: [], action: null }));
      if (!a.dry_run) groups = [];
      return { tier: a.tier, dry_run: a.dry_run, groups: plans };
    },
    dupes_keep_all: (a) => ({ group: a.group, tier: 'near', decision: 'keep_all' }),
    dupes_not_duplicates: (a) => {
      groups = groups.filter((x) => x.id !== a.group);
      return { group: a.group, tier: 'near', decision: 'not_duplicates' };
    },
  });
  app.route = { screen: 'dupes', param };
  renderWith(Dupes, app);
  return { app, transport };
}

beforeEach(() => history.replaceState(null, '', '/#/dupes/near'));

describe('duplicates', () => {
  it('shows tiers as tabs and groups side by side with the keep suggestion and differences', async () => {
    setup();
    const tab = await screen.findByRole('tab', { name: /Near duplicates/ });
    expect(tab).toHaveAttribute('aria-selected', 'true');
    await waitFor(() => expect(tab).toHaveTextContent('2'));
    const group = (await screen.findAllByTestId('dupe-group'))[0];
    expect(group).toHaveTextContent('Keep suggestion: highest resolution (4032×3024 vs 1600×1200)');
    const diffs = group.querySelectorAll('.diff');
    expect([...diffs].map((d) => d.getAttribute('data-diff'))).toEqual(['resolution', 'bytes', 'resolution', 'bytes']);
    expect(within(group).getAllByRole('radio')[0]).toBeChecked();
    expect(within(group).getByText('suggested')).toBeInTheDocument();
  });

  it('resolve shows the plan first and says "Move to trash"', async () => {
    const { transport } = setup();
    const group = (await screen.findAllByTestId('dupe-group'))[0];
    await fireEvent.click(within(group).getByRole('button', { name: /Move 1 to trash/ }));
    await flush();
    expect(transport.named('dupes_resolve')[0].args).toEqual({ group: 'n1', keep: 17, dry_run: true });
    const dialog = screen.getByTestId('resolve-preview');
    expect(dialog).toHaveTextContent('/p/IMG_0042-small.jpg');
    expect(dialog).toHaveTextContent('moved to the trash');
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Move 1 to trash' }));
    await flush();
    expect(transport.named('dupes_resolve')[1].args).toEqual({ group: 'n1', keep: 17, dry_run: false });
    await waitFor(() => expect(screen.getAllByTestId('dupe-group')).toHaveLength(1));
  });

  it('choosing another photo to keep changes the plan', async () => {
    const { transport } = setup();
    const group = (await screen.findAllByTestId('dupe-group'))[0];
    await fireEvent.click(within(group).getAllByRole('radio')[1]);
    await fireEvent.click(within(group).getByRole('button', { name: /Move 1 to trash/ }));
    await flush();
    expect(transport.named('dupes_resolve')[0].args).toEqual({ group: 'n1', keep: 22, dry_run: true });
    expect(screen.getByTestId('resolve-preview')).toHaveTextContent('Keep /p/IMG_0042-small.jpg');
  });

  it('bulk resolve previews every group, then moves them to the trash', async () => {
    const { transport } = setup();
    await fireEvent.click(await screen.findByTestId('resolve-all'));
    await flush();
    expect(transport.named('dupes_resolve_all')[0].args).toEqual({ tier: 'near', dry_run: true });
    const dialog = screen.getByTestId('resolve-preview');
    expect(dialog).toHaveTextContent('Resolve 2 groups');
    expect(dialog).toHaveTextContent('/p/DSC_0042-small.jpg');
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Move 2 to trash' }));
    await flush();
    expect(transport.named('dupes_resolve_all')[1].args).toEqual({ tier: 'near', dry_run: false });
    expect(await screen.findByTestId('dupes-empty')).toBeInTheDocument();
  });

  it('a group resting on the embedding says to check it, and resolve all does not count it', async () => {
    setup([near, { ...near2, certain: false }]);
    const groups = await screen.findAllByTestId('dupe-group');
    expect(within(groups[0]).queryByTestId('needs-review')).toBeNull();
    expect(within(groups[1]).getByTestId('needs-review')).toHaveTextContent('Check before resolving');
    expect(screen.getByTestId('resolve-all')).toHaveTextContent('Resolve all 1 group…');
  });

  it('not duplicates and keep all remove the group from view', async () => {
    const { transport } = setup();
    const group = (await screen.findAllByTestId('dupe-group'))[0];
    await fireEvent.click(within(group).getByRole('button', { name: 'Not duplicates' }));
    await flush();
    expect(transport.named('dupes_not_duplicates')[0].args).toEqual({ group: 'n1' });
    expect(screen.getAllByTestId('dupe-group')).toHaveLength(1);
    await fireEvent.click(within(screen.getAllByTestId('dupe-group')[0]).getByRole('button', { name: 'Keep all' }));
    await flush();
    expect(transport.named('dupes_keep_all')[0].args).toEqual({ group: 'n2' });
  });
});

describe('opening duplicates without a tier', () => {
  it('starts on the first tier that has groups', async () => {
    history.replaceState(null, '', '/#/dupes');
    const { app } = setup([near, near2], '');
    await waitFor(() => expect(app.route.param).toBe('near'));
    await flush();
    expect(screen.getByRole('tab', { name: /Near duplicates/ })).toHaveAttribute('aria-selected', 'true');
  });

  it('never pulls the user back when they left before the answer came', async () => {
    history.replaceState(null, '', '/#/dupes');
    const { app, transport } = setup([near, near2], '');
    // Leave at once, before the first answer is handled.
    app.navigate({ screen: 'settings', param: '' });
    await flush();
    await flush();
    expect(transport.named('dupes').length).toBeGreaterThan(0);
    expect(app.route.screen).toBe('settings');
  });
});
