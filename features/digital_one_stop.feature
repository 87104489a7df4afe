# language: vi
Tính năng: Một cửa số — sử dụng lại dữ liệu số hóa, kết quả điện tử có ký số, thu phí
  Là cán bộ một cửa của Sở Giáo dục và Đào tạo
  Tôi muốn không bắt công dân nộp lại giấy tờ đã số hóa và trả kết quả điện tử có chữ ký số
  Để đạt chỉ tiêu số hóa, tái sử dụng dữ liệu và kết quả điện tử của Kế hoạch 004

  Bối cảnh:
    Cho thời điểm hiện tại là "2026-03-02 09:00"
    Và cơ sở dữ liệu dân cư có công dân "001090012345" sinh ngày "1990-05-12"

  Kịch bản: Căn cước đã số hóa ở hồ sơ trước được dùng lại, không phải tải lên lại
    Khi cán bộ một cửa tiếp nhận hồ sơ của công dân "001090012345" sinh ngày "1990-05-12"
    Và cán bộ một cửa số hóa thành phần "TP2" của hồ sơ
    Và cán bộ một cửa tiếp nhận hồ sơ thứ hai của công dân "001090012345" sinh ngày "1990-05-12"
    Thì hồ sơ thứ hai được gợi ý dùng lại thành phần "TP2" từ hồ sơ đầu
    Khi cán bộ một cửa dùng lại thành phần "TP2" cho hồ sơ thứ hai
    Thì nhật ký hồ sơ thứ hai có sự kiện "document_reused"
    Khi cán bộ một cửa nhận đủ cả hai hồ sơ
    Thì chỉ số 766 "4.3" của ngày "2026-03-02" là 1 trên 2

  Kịch bản: Chứng thư số hết hạn thì không trả được kết quả điện tử và không có gì thay đổi
    Khi cán bộ một cửa tiếp nhận hồ sơ của công dân "001090012345" sinh ngày "1990-05-12"
    Và chứng thư số của cơ quan đã hết hạn
    Thì chuyên viên không đính kèm được kết quả, với thông báo "Chứng thư số ký kết quả đã hết hạn ngày"
    Và hồ sơ không có kết quả điện tử

  Kịch bản: Thu phí tiền mặt tại quầy sai số tiền bị từ chối, đúng số tiền thì có biên lai điện tử
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "language_centre_operation" với người nộp "Trung tâm Sao Mai"
    Thì cán bộ một cửa không thu được 500000 đồng, với thông báo "khác mức phí của thủ tục"
    Khi cán bộ một cửa thu 1000000 đồng tiền mặt
    Thì hồ sơ có biên lai điện tử số 1 thu bằng "cash"
