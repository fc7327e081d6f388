/// A hand-written `status detail` answer: gluster's XML envelope (`opRet` 0, no error) around
/// `volumes`, the `<volume>` elements. The recorded 10.3 answers need none; the hand-written
/// answers of older generations share the envelope and differ in their pairs.
enum StatusAnswer {
    static func xml(volumes: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <cliOutput>
          <opRet>0</opRet>
          <opErrno>0</opErrno>
          <opErrstr/>
          <geoRep>
        \(volumes)
          </geoRep>
        </cliOutput>
        """
    }
}
