import { PERSONAL_DATA } from '../../toybox/personal-data';

/** README.txt: what each file is and how to check the copy, in Japanese then English. */
export function readmeText(displayId: string, exportedAt: string): string {
  const ja = PERSONAL_DATA.map((k) => `  csv/${k.kind}.csv  ${k.label.ja}`).join('\r\n');
  const en = PERSONAL_DATA.map((k) => `  csv/${k.kind}.csv  ${k.label.en}`).join('\r\n');
  return [
    `TOYBOX 個人データエクスポート / personal data export`,
    `ID: ${displayId}    作成日時 / exported at: ${exportedAt} (JST / 日本時間)`,
    '',
    '=== 日本語 ===',
    'このアーカイブには TOYBOX にあるあなたのデータがすべて入っています。',
    '',
    '  index.html         ブラウザで開くと内容を見られます（インターネット接続は不要です）',
    '  data.json          すべてのデータ（機械で読める形式）',
    '  schema.json        data.json の形式の説明（JSON Schema）',
    '  media/             投稿画像・アバターなど、データが参照するファイル',
    '  missing-media.txt  参照されているのに見つからなかったファイルの一覧',
    '  manifest.json      各ファイルの大きさと SHA-256（コピーが壊れていないかの確認用）',
    '  manifest.sig       manifest.json への TOYBOX の署名（Ed25519）。このアーカイブが TOYBOX で作られ、変更されていないことの証明です',
    ja,
    '',
    'CSV は UTF-8（BOM 付き）なので、Excel でもそのまま開けます。',
    '確認方法: 各ファイルの SHA-256 を manifest.json の値と比べてください（例: sha256sum data.json）。',
    'data.json の各行の global_id は、その行を指す変わらない ID です。このアーカイブは、のちにご自身のアカウントへの復元に使えます（編集したアーカイブは本人の証明になりません）。',
    'パスワード、管理者の内部メモ、他のユーザーの非公開データは含まれません。',
    '',
    '=== English ===',
    'This archive holds all of your data on TOYBOX.',
    '',
    '  index.html         open it in a browser to read everything (works offline)',
    '  data.json          all the data, machine-readable',
    '  schema.json        the format of data.json (JSON Schema)',
    '  media/             images, avatars and other files your data refers to',
    '  missing-media.txt  files your data refers to that could not be found',
    '  manifest.json      size and SHA-256 of every file, to check that your copy is whole',
    '  manifest.sig       TOYBOX\'s Ed25519 signature over manifest.json: proof that this archive was made by TOYBOX, unchanged',
    en,
    '',
    'The CSV files are UTF-8 with a byte order mark, so Excel opens them as they are.',
    'To verify: compare each file\'s SHA-256 with manifest.json (for example: sha256sum data.json).',
    'Each row in data.json carries a global_id that never changes. You can later restore this archive into your own account (an edited archive no longer proves it is yours).',
    'Not included: your password, staff-internal notes, other users\' private data.',
    '',
  ].join('\r\n');
}
