// The settings window's calls to the shell: the admin commands, granted to the `settings` window only
// (src-tauri/capabilities/settings.json). The core re-checks that the acting user is an administrator on each.
import { invoke } from '@tauri-apps/api/core';

import type { AccessRow } from '../bindings/AccessRow';
import type { DataSource } from '../bindings/DataSource';
import type { DoctorReport } from '../bindings/DoctorReport';
import type { ImportReport } from '../bindings/ImportReport';
import type { PermissionLevel } from '../bindings/PermissionLevel';
import type { SourceChanges } from '../bindings/SourceChanges';
import type { SourcesView } from '../bindings/SourcesView';
import type { User } from '../bindings/User';

/** Command names, as in src-tauri/src/commands/names.rs (ADMIN_COMMANDS). */
export const ADMIN = {
  overview: 'settings_overview',
  sourcesView: 'sources_view',
  addSource: 'add_source',
  editSource: 'edit_source',
  setSourceActive: 'set_source_active',
  removeSource: 'remove_source',
  setPassword: 'set_source_password',
  clearPassword: 'clear_source_password',
  testSource: 'test_source',
  listUsers: 'list_users',
  addUser: 'add_user',
  removeUser: 'remove_user',
  setAdmin: 'set_admin',
  accessGrid: 'access_grid',
  grant: 'grant_access',
  revoke: 'revoke_access',
  importFile: 'provision_import_file',
  exportFile: 'provision_export_file',
} as const;

/** What `edit_source` answers: the source as stored, and whether its password was removed (server changed). */
export type SourceEdit = DataSource & { password_cleared: boolean };

export const settingsOverview = () => invoke<User>(ADMIN.overview);
export const sourcesView = () => invoke<SourcesView>(ADMIN.sourcesView);
export const addSource = (name: string, changes: SourceChanges) =>
  invoke<DataSource>(ADMIN.addSource, { name, changes });
export const editSource = (name: string, changes: SourceChanges) =>
  invoke<SourceEdit>(ADMIN.editSource, { name, changes });
export const setSourceActive = (name: string, active: boolean) =>
  invoke<DataSource>(ADMIN.setSourceActive, { name, active });
export const removeSource = (name: string) => invoke<DataSource>(ADMIN.removeSource, { name });
/** Sends the password once, to the keychain; nothing ever sends it back. */
export const setSourcePassword = (name: string, password: string) =>
  invoke<DataSource>(ADMIN.setPassword, { name, password });
export const clearSourcePassword = (name: string) => invoke<boolean>(ADMIN.clearPassword, { name });
export const testSource = (name: string) => invoke<DoctorReport>(ADMIN.testSource, { name });
export const listUsers = () => invoke<User[]>(ADMIN.listUsers);
export const addUser = (username: string, displayName: string | null, isAdmin: boolean) =>
  invoke<User>(ADMIN.addUser, { username, displayName, isAdmin });
export const removeUser = (username: string) => invoke<null>(ADMIN.removeUser, { username });
export const setAdmin = (username: string, isAdmin: boolean) =>
  invoke<User>(ADMIN.setAdmin, { username, isAdmin });
export const accessGrid = () => invoke<AccessRow[]>(ADMIN.accessGrid);
export const grantAccess = (username: string, source: string, level: PermissionLevel) =>
  invoke<boolean>(ADMIN.grant, { username, source, level });
export const revokeAccess = (username: string, source: string) =>
  invoke<boolean>(ADMIN.revoke, { username, source });
export const importFile = (path: string, prune: boolean, dryRun: boolean) =>
  invoke<ImportReport>(ADMIN.importFile, { path, prune, dryRun });
export const exportFile = (path: string) => invoke<string>(ADMIN.exportFile, { path });
