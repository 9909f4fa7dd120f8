/** The viewer's part of the URL hash: #case=ID&view=viewer&t=US&msg=SEQ. */

export interface ViewerParams {
  /** A moment to open at, virtual µs. */
  tUs: number | null;
  /** A message to select: the seq of a msg-send / msg-recv event. */
  msg: number | null;
}

export function parseViewerParams(params: URLSearchParams): ViewerParams {
  const num = (k: string): number | null => {
    const v = params.get(k);
    if (v === null || !/^\d+$/.test(v)) return null;
    return Number(v);
  };
  return { tUs: num('t'), msg: num('msg') };
}
