// Original file: proto/easel/inference/v1/inference.proto


export interface ImageSize {
  'width'?: (number);
  'height'?: (number);
}

export interface ImageSize__Output {
  'width': (number);
  'height': (number);
}
