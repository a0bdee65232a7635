export interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  content: string;
}

/**
 * Splits a multipart/form-data body (as the simulator's HTTP server hands it over, decoded as UTF-8) into its parts.
 * Enough for Intuit's `/upload`: a `file_metadata_NN` JSON part and a `file_content_NN` file part per attachment.
 */
export function parseMultipart(contentType: string, body: string): MultipartPart[] | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!/^multipart\/form-data/i.test(contentType.trim()) || !boundary) return null;
  const delimiter = `--${boundary[1] ?? boundary[2].trim()}`;
  const parts: MultipartPart[] = [];
  for (const chunk of body.split(delimiter).slice(1)) {
    if (chunk.startsWith('--')) break;
    const raw = chunk.replace(/^\r?\n/, '');
    const split = raw.search(/\r?\n\r?\n/);
    if (split < 0) continue;
    const head = raw.slice(0, split);
    const content = raw
      .slice(split)
      .replace(/^\r?\n\r?\n/, '')
      .replace(/\r?\n$/, '');
    const disposition = /content-disposition:([^\r\n]*)/i.exec(head)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (!name) continue;
    parts.push({
      name,
      filename: /\bfilename="([^"]*)"/i.exec(disposition)?.[1],
      contentType: /content-type:\s*([^\r\n]*)/i.exec(head)?.[1]?.trim(),
      content,
    });
  }
  return parts;
}
