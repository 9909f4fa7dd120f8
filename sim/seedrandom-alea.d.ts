// Types for the one seedrandom file we import: the alea generator on its own, without the package
// index (which pulls in every generator and an optional node:crypto require for autoseeding).
declare module 'seedrandom/lib/alea.js' {
  interface AleaPrng {
    (): number;
    int32(): number;
    double(): number;
    quick(): number;
  }
  const alea: (seed: string) => AleaPrng;
  export default alea;
}
