import { useI18n, type MessageKey } from '../i18n/i18n';
import { Modal } from '../ui/Modal';

const shortcuts: [string, MessageKey][] = [
  ['j', 'shortcuts.next'],
  ['k', 'shortcuts.previous'],
  ['r', 'shortcuts.reply'],
  ['n', 'shortcuts.note'],
  ['e', 'shortcuts.resolve'],
  ['a', 'shortcuts.assignMe'],
  ['/', 'shortcuts.canned'],
  ['?', 'shortcuts.help'],
  ['Alt + A', 'shortcuts.acceptOffer'],
  ['Alt + X', 'shortcuts.declineOffer'],
  ['Enter', 'shortcuts.acceptOfferEnter'],
  ['Enter', 'shortcuts.send'],
  ['Shift + Enter', 'shortcuts.newline'],
  ['Esc', 'shortcuts.leave'],
];

export function ShortcutHelp({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  return (
    <Modal title={t('shortcuts.title')} onClose={onClose}>
      <table className="shortcut-table">
        <tbody>
          {shortcuts.map(([key, label]) => (
            <tr key={`${key}:${label}`}>
              <td><kbd>{key}</kbd></td>
              <td>{t(label)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">{t('shortcuts.note.inputs')}</p>
    </Modal>
  );
}
